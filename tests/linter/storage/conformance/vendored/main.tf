# terraform init has run: the registry module's code is under .terraform/modules and is read as
# Terraform reads it (its variables set by the call), not through veil's model.
module "frames" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.1.2"
  bucket  = "acme-frames"
  acl     = "public-read"
}
