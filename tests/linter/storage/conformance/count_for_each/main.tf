# count and for_each with values the code determines: one bucket per instance, as Terraform plans
# them, each joined to the companions that name it.

variable "zones" {
  default = ["raw", "redacted"]
}

variable "names" {
  type = set(string) # no default: the instances are unknown
}

locals {
  tiers = {
    archive = { public = false }
    site    = { public = true }
  }
}

# count = 2, companions joined by count.index and by a literal index
resource "aws_s3_bucket" "counted" {
  count  = 2
  bucket = "acme-counted-${count.index}"
}

resource "aws_s3_bucket_public_access_block" "counted" {
  count                   = length(aws_s3_bucket.counted)
  bucket                  = aws_s3_bucket.counted[count.index].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "counted" {
  bucket = aws_s3_bucket.counted[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket" "retired" {
  count  = 0
  bucket = "acme-retired"
}

# for_each over a set: a companion per bucket through for_each = aws_s3_bucket.frames, one through
# each.key, one for a single instance
resource "aws_s3_bucket" "frames" {
  for_each = toset(var.zones)
  bucket   = "acme-frames-${each.key}"
}

resource "aws_s3_bucket_public_access_block" "frames" {
  for_each                = aws_s3_bucket.frames
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "frames" {
  for_each = toset(var.zones)
  bucket   = aws_s3_bucket.frames[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "frames_raw" {
  bucket = aws_s3_bucket.frames["raw"].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

# for_each over a map of objects: one key public, one private
resource "aws_s3_bucket" "tiers" {
  for_each = local.tiers
  bucket   = "acme-${each.key}"
}

resource "aws_s3_bucket_acl" "tiers" {
  for_each = local.tiers
  bucket   = aws_s3_bucket.tiers[each.key].id
  acl      = each.value.public ? "public-read" : "private"
}

resource "aws_s3_bucket_public_access_block" "tiers" {
  for_each                = { for k, v in local.tiers : k => v if !v.public }
  bucket                  = aws_s3_bucket.tiers[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# for_each the code does not determine: judged once, as a template for all its instances
resource "aws_s3_bucket" "tenants" {
  for_each = var.names
  bucket   = "acme-tenant-${each.key}"
}

resource "aws_s3_bucket_public_access_block" "tenants" {
  for_each                = aws_s3_bucket.tenants
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Google: an IAM member on one instance
resource "google_storage_bucket" "media" {
  for_each                    = toset(["public", "private"])
  name                        = "acme-media-${each.key}"
  location                    = "EU"
  uniform_bucket_level_access = true
}

resource "google_storage_bucket_iam_member" "media" {
  bucket = google_storage_bucket.media["public"].name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

# Azure: a storage account per map entry, its public-access setting from the entry
resource "azurerm_storage_account" "accounts" {
  for_each                        = { locked = false, open = true }
  name                            = "acme${each.key}"
  resource_group_name             = "rg"
  location                        = "westeurope"
  account_tier                    = "Standard"
  account_replication_type        = "GRS"
  allow_nested_items_to_be_public = each.value
}

resource "azurerm_storage_container" "accounts" {
  for_each              = azurerm_storage_account.accounts
  name                  = "frames"
  storage_account_id    = each.value.id
  container_access_type = "blob"
}

# A module called once per key, its inputs taken from each.key
module "stores" {
  for_each = toset(["a", "b"])
  source   = "./modules/bucket"
  name     = "acme-store-${each.key}"
  public   = each.key == "b"
}

# Undetermined instances: a companion whose for_each the code does not determine may name any
# instance of the bucket, so what it decides (access logs here, a public grant below) is unknown on
# each; a module call with such a for_each is judged once, as a template.
resource "aws_s3_bucket_logging" "frames" {
  for_each      = var.names
  bucket        = aws_s3_bucket.frames[each.key].id
  target_bucket = "acme-logs"
}

module "tenant_stores" {
  for_each = var.names
  source   = "./modules/bucket"
  name     = "acme-tenant-store-${each.key}"
  public   = true
}

resource "google_storage_bucket" "assets" {
  for_each                    = toset(["x", "y"])
  name                        = "acme-assets-${each.key}"
  location                    = "EU"
  uniform_bucket_level_access = true
}

resource "google_storage_bucket_iam_member" "assets" {
  for_each = var.names
  bucket   = google_storage_bucket.assets[each.key].name
  role     = "roles/storage.objectViewer"
  member   = "allUsers"
}
