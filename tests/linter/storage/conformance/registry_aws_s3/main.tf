# terraform-aws-modules/s3-bucket/aws, not vendored: judged through veil's model of its inputs.
module "defaults" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.1.2"
  bucket  = "acme-defaults"
}

module "public" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.1.2"
  bucket  = "acme-public"

  acl                      = "public-read"
  control_object_ownership = true
  object_ownership         = "ObjectWriter"
  block_public_acls        = false
  ignore_public_acls       = false
}

module "hardened" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "5.2.0"
  bucket  = "acme-hardened"

  versioning = {
    enabled = true
  }

  server_side_encryption_configuration = {
    rule = {
      apply_server_side_encryption_by_default = {
        kms_master_key_id = "arn:aws:kms:eu-west-1:111122223333:key/abcd"
        sse_algorithm     = "aws:kms"
      }
    }
  }

  logging = {
    target_bucket = "acme-logs"
    target_prefix = "hardened/"
  }

  lifecycle_rule = [
    {
      id                                     = "expire"
      enabled                                = true
      abort_incomplete_multipart_upload_days = 7
      expiration = {
        days = 30
      }
    }
  ]

  attach_deny_insecure_transport_policy = true
}

module "suspended" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.1.2"
  bucket  = "acme-suspended"
  versioning = {
    status = var.versioning_status
  }
}

variable "versioning_status" {
  type = string
}

module "not_created" {
  source        = "terraform-aws-modules/s3-bucket/aws"
  create_bucket = false
  bucket        = "acme-none"
}

# Before v3.9.0 the module left the four public access block flags off by default, and
# control_object_ownership alone kept ACLs on (ObjectWriter).
module "v3" {
  source                   = "terraform-aws-modules/s3-bucket/aws"
  version                  = "3.7.0"
  bucket                   = "acme-v3"
  control_object_ownership = true
}

# ~> 3.15 installs the newest 3.x, which has the secure defaults.
module "v3_late" {
  source                   = "terraform-aws-modules/s3-bucket/aws"
  version                  = "~> 3.15"
  bucket                   = "acme-v3-late"
  control_object_ownership = true
}
