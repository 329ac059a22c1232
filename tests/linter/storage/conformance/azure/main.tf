resource "azurerm_storage_account" "frames" {
  name                            = "acmeframes"
  resource_group_name             = "rg"
  location                        = "westeurope"
  account_tier                    = "Standard"
  account_replication_type        = "GRS"
  min_tls_version                 = "TLS1_2"
  https_traffic_only_enabled      = true
  allow_nested_items_to_be_public = false

  blob_properties {
    versioning_enabled = true
  }
}

resource "azurerm_storage_container" "raw" {
  name                  = "raw"
  storage_account_id    = azurerm_storage_account.frames.id
  container_access_type = "private"
}

resource "azurerm_storage_account" "legacy" {
  name                     = "acmelegacy"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "LRS"
  min_tls_version          = "TLS1_0"
}

resource "azurerm_storage_container" "press" {
  name                  = "press"
  storage_account_name  = azurerm_storage_account.legacy.name
  container_access_type = "blob"
}

data "azurerm_storage_account" "shared" {
  name                = "acmeshared"
  resource_group_name = "rg"
}

resource "azurerm_storage_container" "exports" {
  name                  = "exports"
  storage_account_id    = data.azurerm_storage_account.shared.id
  container_access_type = "container"
}
