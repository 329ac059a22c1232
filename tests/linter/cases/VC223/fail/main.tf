resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

# Replication declared without versioning: S3 refuses it, nothing is replicated.
resource "aws_s3_bucket" "clips" {
  bucket = "acme-clips"
}

resource "aws_s3_bucket_replication_configuration" "clips" {
  bucket = aws_s3_bucket.clips.id
  role   = "arn:aws:iam::123456789012:role/replication"
  rule {
    id     = "all"
    status = "Enabled"
    destination {
      bucket = "arn:aws:s3:::acme-clips-replica"
    }
  }
}

# AWS provider v3: every inline rule disabled.
resource "aws_s3_bucket" "legacy" {
  bucket = "acme-legacy"
  versioning {
    enabled = true
  }
  replication_configuration {
    role = "arn:aws:iam::123456789012:role/replication"
    rules {
      id     = "all"
      status = "Disabled"
      destination {
        bucket = "arn:aws:s3:::acme-legacy-replica"
      }
    }
  }
}

resource "google_storage_bucket" "thumbs" {
  name     = "acme-thumbs"
  location = "europe-west1"
}

resource "azurerm_storage_account" "media" {
  name                     = "acmemedia"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "LRS"
}

resource "azurerm_storage_account" "zones" {
  name                     = "acmezones"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "ZRS"
}
