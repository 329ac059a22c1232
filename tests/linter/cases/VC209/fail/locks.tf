# Retention locks longer than the policy's max_days (raw/: 7 days in the default pack): the
# lifecycle rules expire raw/ in time, but nothing can delete a locked object before its period.
resource "aws_s3_bucket" "vault" {
  bucket              = "acme-vault"
  object_lock_enabled = true
}

resource "aws_s3_bucket_lifecycle_configuration" "vault" {
  bucket = aws_s3_bucket.vault.id
  rule {
    id     = "raw"
    status = "Enabled"
    filter {
      prefix = "raw/"
    }
    expiration {
      days = 7
    }
  }
}

resource "aws_s3_bucket_object_lock_configuration" "vault" {
  bucket = aws_s3_bucket.vault.id
  rule {
    default_retention {
      mode  = "COMPLIANCE"
      years = 1
    }
  }
}

resource "google_storage_bucket" "uploads" {
  name     = "acme-uploads"
  location = "EU"
  lifecycle_rule {
    condition {
      age            = 7
      matches_prefix = ["raw/"]
    }
    action {
      type = "Delete"
    }
  }
  retention_policy {
    is_locked        = true
    retention_period = 2592000
  }
}

resource "azurerm_storage_account" "media" {
  name                     = "acmemedia"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
}

resource "azurerm_storage_container" "raw" {
  name               = "raw"
  storage_account_id = azurerm_storage_account.media.id
}

resource "azurerm_storage_container_immutability_policy" "raw" {
  storage_container_resource_manager_id = azurerm_storage_container.raw.id
  immutability_period_in_days           = 30
}
