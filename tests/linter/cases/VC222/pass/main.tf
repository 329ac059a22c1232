# AWS provider v4+: object lock chosen at creation, a default retention in the companion.
resource "aws_s3_bucket" "frames" {
  bucket              = "acme-frames"
  object_lock_enabled = true
}

resource "aws_s3_bucket_object_lock_configuration" "frames" {
  bucket = aws_s3_bucket.frames.id
  rule {
    default_retention {
      mode = "GOVERNANCE"
      days = 7
    }
  }
}

# Object lock enabled on an existing (versioned) bucket through the companion alone.
resource "aws_s3_bucket" "clips" {
  bucket = "acme-clips"
}

resource "aws_s3_bucket_object_lock_configuration" "clips" {
  bucket              = aws_s3_bucket.clips.id
  object_lock_enabled = "Enabled"
  rule {
    default_retention {
      mode = "COMPLIANCE"
      days = 7
    }
  }
}

# AWS provider v3: the inline block.
resource "aws_s3_bucket" "legacy" {
  bucket = "acme-legacy"
  object_lock_configuration {
    object_lock_enabled = "Enabled"
    rule {
      default_retention {
        mode = "GOVERNANCE"
        days = 7
      }
    }
  }
}

# A bucket another stack declares: only what the checked companions say about it is judged.
data "aws_s3_bucket" "shared" {
  bucket = "acme-shared"
}

resource "aws_s3_bucket_versioning" "shared" {
  bucket = data.aws_s3_bucket.shared.id
  versioning_configuration {
    status = "Enabled"
  }
}

# An unlocked retention policy binds every writer (as S3's governance mode does).
resource "google_storage_bucket" "thumbs" {
  name     = "acme-thumbs"
  location = "EU"
  retention_policy {
    retention_period = 604800
  }
}

resource "google_storage_bucket" "logs" {
  name     = "acme-logs"
  location = "EU"
  retention_policy {
    is_locked        = true
    retention_period = 604800
  }
}

resource "google_storage_bucket" "exports" {
  name                    = "acme-exports"
  location                = "EU"
  enable_object_retention = true
}

resource "azurerm_storage_account" "media" {
  name                     = "acmemedia"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
  immutability_policy {
    allow_protected_append_writes = false
    period_since_creation_in_days = 7
    state                         = "Unlocked"
  }
}

# Every container of the account has an immutability policy.
resource "azurerm_storage_account" "archive" {
  name                     = "acmearchive"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
}

resource "azurerm_storage_container" "raw" {
  name               = "raw"
  storage_account_id = azurerm_storage_account.archive.id
}

resource "azurerm_storage_container_immutability_policy" "raw" {
  storage_container_resource_manager_id = azurerm_storage_container.raw.resource_manager_id
  immutability_period_in_days           = 7
  locked                                = true
}
