# A modelled registry module with inputs the model knows, and a local module that is there.
module "frames" {
  source                                = "terraform-aws-modules/s3-bucket/aws"
  version                               = "4.1.2"
  bucket                                = "acme-frames"
  force_destroy                         = false
  attach_deny_insecure_transport_policy = true
  tags = {
    team = "ml"
  }
}

module "local" {
  source = "./modules/bucket"
  name   = "acme-local"
}
