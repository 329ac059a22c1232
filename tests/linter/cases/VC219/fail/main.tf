resource "azurerm_storage_account" "media" {
  name                     = "acmemedia"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
  blob_properties {
    versioning_enabled = true
  }
}

resource "google_storage_bucket" "clips" {
  name     = "acme-clips"
  location = "EU"
  soft_delete_policy {
    retention_duration_seconds = 0
  }
}
