# A public ACL is harmless when the public access block ignores ACLs.
resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_acl" "frames" {
  bucket = aws_s3_bucket.frames.id
  acl    = "private"
}

resource "aws_s3_bucket" "legacy" {
  bucket = "acme-legacy"
  acl    = "public-read"
}

resource "aws_s3_bucket_public_access_block" "frames" {
  bucket                  = aws_s3_bucket.frames.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_public_access_block" "legacy" {
  bucket                  = aws_s3_bucket.legacy.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

resource "google_storage_bucket" "clips" {
  name                        = "acme-clips"
  location                    = "EU"
  public_access_prevention    = "enforced"
  uniform_bucket_level_access = true
}
