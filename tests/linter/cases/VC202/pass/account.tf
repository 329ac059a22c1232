# An account-wide block covers every bucket of the module.
resource "aws_s3_bucket" "thumbs" {
  bucket = "acme-thumbs"
}

resource "aws_s3_account_public_access_block" "all" {
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}
