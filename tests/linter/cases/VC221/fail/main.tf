module "assets" {
  source  = "cloudposse/s3-bucket/aws"
  version = "4.2.0"
  name    = "assets"
}

module "logs" {
  source = "git::https://example.com/infra/modules.git//bucket?ref=v1.2.0"
  name   = "acme-logs"
}

module "frames" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.1.2"
  bucket  = "acme-frames"
  acl_v2  = "public-read"
}

module "missing" {
  source = "./modules/not-here"
}
