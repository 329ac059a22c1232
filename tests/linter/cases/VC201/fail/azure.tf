resource "azurerm_storage_account" "media" {
  name                     = "acmemedia"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
}

resource "azurerm_storage_container" "frames" {
  name                  = "frames"
  storage_account_id    = azurerm_storage_account.media.id
  container_access_type = "blob"
}
