# Retention locks within the policy's max_days (raw/: 7 days, redacted/: 365 days).
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
      mode = "GOVERNANCE"
      days = 7
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
    retention_period = 86400
  }
}

resource "azurerm_storage_account" "media" {
  name                     = "acmemedia"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
}

resource "azurerm_storage_container" "redacted" {
  name               = "redacted"
  storage_account_id = azurerm_storage_account.media.id
}

resource "azurerm_storage_container_immutability_policy" "redacted" {
  storage_container_resource_manager_id = azurerm_storage_container.redacted.id
  immutability_period_in_days           = 30
}
