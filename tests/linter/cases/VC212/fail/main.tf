resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "azurerm_storage_account" "media" {
  name                     = "acmemedia"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
  min_tls_version          = "TLS1_0"
}
