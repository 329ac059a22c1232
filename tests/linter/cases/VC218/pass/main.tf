resource "azurerm_storage_account" "frames" {
  name                          = "acmeframes"
  resource_group_name           = "rg"
  location                      = "westeurope"
  account_tier                  = "Standard"
  account_replication_type      = "GRS"
  public_network_access_enabled = false
}
