# AWS provider v4+: versioning and an enabled replication rule.
resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_versioning" "frames" {
  bucket = aws_s3_bucket.frames.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_replication_configuration" "frames" {
  depends_on = [aws_s3_bucket_versioning.frames]
  bucket     = aws_s3_bucket.frames.id
  role       = "arn:aws:iam::123456789012:role/replication"
  rule {
    id     = "all"
    status = "Enabled"
    destination {
      bucket = "arn:aws:s3:::acme-frames-replica"
    }
  }
}

# AWS provider v3: the inline blocks.
resource "aws_s3_bucket" "legacy" {
  bucket = "acme-legacy"
  versioning {
    enabled = true
  }
  replication_configuration {
    role = "arn:aws:iam::123456789012:role/replication"
    rules {
      id     = "all"
      status = "Enabled"
      destination {
        bucket = "arn:aws:s3:::acme-legacy-replica"
      }
    }
  }
}

resource "google_storage_bucket" "thumbs" {
  name     = "acme-thumbs"
  location = "EU"
}

resource "google_storage_bucket" "clips" {
  name     = "acme-clips"
  location = "EUR4"
}

resource "google_storage_bucket" "exports" {
  name     = "acme-exports"
  location = "EU"
  custom_placement_config {
    data_locations = ["EUROPE-WEST1", "EUROPE-WEST4"]
  }
}

resource "azurerm_storage_account" "media" {
  name                     = "acmemedia"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "RAGZRS"
}

# Object lock turns versioning on when the bucket is created (and it cannot be suspended).
resource "aws_s3_bucket" "vault" {
  bucket              = "acme-vault"
  object_lock_enabled = true
}

resource "aws_s3_bucket_replication_configuration" "vault" {
  bucket = aws_s3_bucket.vault.id
  role   = "arn:aws:iam::123456789012:role/replication"
  rule {
    status = "Enabled"
    destination {
      bucket = "arn:aws:s3:::acme-vault-replica"
    }
  }
}
