resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "frames" {
  bucket = aws_s3_bucket.frames.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.frames.arn
    }
  }
}

resource "google_storage_bucket" "clips" {
  name     = "acme-clips"
  location = "EU"
  encryption {
    default_kms_key_name = google_kms_crypto_key.clips.id
  }
}

resource "azurerm_storage_account" "media" {
  name                     = "acmemedia"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
}

resource "azurerm_storage_account_customer_managed_key" "media" {
  storage_account_id = azurerm_storage_account.media.id
  key_vault_id       = azurerm_key_vault.kv.id
  key_name           = "media"
}

resource "aws_s3_object" "manifest" {
  bucket                 = "acme-datasets"
  key                    = "manifest.csv"
  source                 = "manifest.csv"
  server_side_encryption = "aws:kms"
  kms_key_id             = "arn:aws:kms:eu-west-1:111122223333:key/abcd"
}

# aws:kms without a key id (the AWS-managed aws/s3 key): enough with storage.kms_key: kms_enough.
resource "aws_s3_bucket" "legacy" {
  bucket = "acme-legacy"
  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm = "aws:kms"
      }
    }
  }
}
