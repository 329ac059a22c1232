resource "azurerm_storage_account" "media" {
  name                     = "acmemedia"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
  blob_properties {
    delete_retention_policy {
      days = 7
    }
  }
}

# No soft_delete_policy: Cloud Storage keeps deleted objects for 7 days by default.
resource "google_storage_bucket" "clips" {
  name     = "acme-clips"
  location = "EU"
}
