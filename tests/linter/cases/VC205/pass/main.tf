resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_versioning" "frames" {
  bucket = aws_s3_bucket.frames.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket" "legacy" {
  bucket = "acme-legacy"
  versioning {
    enabled = true
  }
}

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
