module "defaults" {
  source              = "Azure/avm-res-storage-storageaccount/azurerm"
  version             = "0.5.0"
  name                = "acmedefaults"
  location            = "westeurope"
  resource_group_name = "rg"
}

module "weak" {
  source                          = "Azure/avm-res-storage-storageaccount/azurerm"
  version                         = "0.5.0"
  name                            = "acmeweak"
  location                        = "westeurope"
  resource_group_name             = "rg"
  min_tls_version                 = "TLS1_0"
  allow_nested_items_to_be_public = true
  containers = {
    press = {
      name          = "press"
      public_access = "Blob"
    }
  }
  blob_properties = {
    versioning_enabled = true
  }
}

module "logged" {
  source              = "Azure/avm-res-storage-storageaccount/azurerm"
  version             = "0.5.0"
  name                = "acmelogged"
  location            = "westeurope"
  resource_group_name = "rg"
  blob_properties = {
    versioning_enabled = true
  }
  diagnostic_settings_blob = {
    audit = {
      name                  = "audit"
      workspace_resource_id = "/subscriptions/x/workspaces/audit"
    }
  }
}
