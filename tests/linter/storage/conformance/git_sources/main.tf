# The modelled modules called through git and archive sources instead of the registry: the same
# model, at the release the tag names (a branch or no ref is judged as the latest release).
module "tagged" {
  source = "git::https://github.com/terraform-aws-modules/terraform-aws-s3-bucket.git?ref=v4.1.2"
  bucket = "acme-tagged"
}

# v3.7.0 predates the module's secure defaults: every public access block flag off.
module "shorthand_v3" {
  source = "github.com/terraform-aws-modules/terraform-aws-s3-bucket?ref=v3.7.0"
  bucket = "acme-shorthand"
}

module "ssh_unpinned" {
  source = "git@github.com:terraform-aws-modules/terraform-aws-s3-bucket.git"
  bucket = "acme-ssh"

  versioning = {
    enabled = true
  }

  server_side_encryption_configuration = {
    rule = {
      apply_server_side_encryption_by_default = {
        sse_algorithm = "AES256"
      }
    }
  }

  logging = {
    target_bucket = module.tagged.s3_bucket_id
    target_prefix = "ssh/"
  }
}

module "archive" {
  source = "https://github.com/terraform-aws-modules/terraform-aws-s3-bucket/archive/refs/tags/v4.1.2.zip//terraform-aws-s3-bucket-4.1.2"
  bucket = "acme-archive"

  acl                      = "public-read"
  block_public_acls        = false
  ignore_public_acls       = false
  control_object_ownership = true
  object_ownership         = "ObjectWriter"
}

module "hosted" {
  source  = "registry.terraform.io/terraform-aws-modules/s3-bucket/aws"
  version = "4.1.2"
  bucket  = "acme-hosted"
}

module "simple" {
  source                   = "git::https://github.com/terraform-google-modules/terraform-google-cloud-storage.git//modules/simple_bucket?ref=v6.0.0"
  name                     = "acme-simple"
  project_id               = "acme"
  location                 = "EU"
  public_access_prevention = "enforced"
}

module "account" {
  source              = "git::https://github.com/Azure/terraform-azurerm-avm-res-storage-storageaccount.git?ref=v0.5.0"
  name                = "acmeaccount"
  location            = "westeurope"
  resource_group_name = "rg"
  min_tls_version     = "TLS1_0"
}
