resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket" "clips" {
  bucket              = "acme-clips"
  object_lock_enabled = false
}

resource "google_storage_bucket" "thumbs" {
  name     = "acme-thumbs"
  location = "EU"
}

variable "keep_seconds" {
  type = number
}

resource "google_storage_bucket" "exports" {
  name     = "acme-exports"
  location = "EU"
  retention_policy {
    retention_period = var.keep_seconds
  }
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
    state                         = "Disabled"
  }
}

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

resource "azurerm_storage_container" "redacted" {
  name               = "redacted"
  storage_account_id = azurerm_storage_account.archive.id
}

resource "azurerm_storage_container_immutability_policy" "raw" {
  storage_container_resource_manager_id = azurerm_storage_container.raw.id
  immutability_period_in_days           = 7
}
