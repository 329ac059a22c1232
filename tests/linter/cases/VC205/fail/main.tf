resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket" "thumbs" {
  bucket = "acme-thumbs"
}

resource "aws_s3_bucket_versioning" "thumbs" {
  bucket = aws_s3_bucket.thumbs.id
  versioning_configuration {
    status = "Suspended"
  }
}

resource "azurerm_storage_account" "media" {
  name                     = "acmemedia"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
}
