resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket" "thumbs" {
  bucket = "acme-thumbs"
}

resource "aws_s3_bucket_public_access_block" "thumbs" {
  bucket              = aws_s3_bucket.thumbs.id
  block_public_acls   = true
  block_public_policy = true
}

resource "google_storage_bucket" "clips" {
  name     = "acme-clips"
  location = "EU"
}

resource "azurerm_storage_account" "media" {
  name                     = "acmemedia"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
}
