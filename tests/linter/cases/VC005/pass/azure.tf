resource "azurerm_storage_account" "media" {
  name                     = "acmemedia"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
}

# The finding is on container_access_type, three lines into the block: the comment covers the block.
# veil:ignore VC201 reason="public press kit, no personal data" until=2999-01-01
resource "azurerm_storage_container" "press" {
  name                  = "press"
  storage_account_id    = azurerm_storage_account.media.id
  container_access_type = "blob"
}
