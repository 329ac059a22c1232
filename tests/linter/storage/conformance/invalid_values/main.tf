# Values and shapes the providers reject, and companions that turn settings off on buckets the
# files do not declare. Written from the AWS and Google provider documentation.

data "aws_s3_bucket" "existing" {
  bucket = "acme-existing"
}

# Declared on a bucket that exists elsewhere: all four flags off.
resource "aws_s3_bucket_public_access_block" "existing" {
  bucket                  = data.aws_s3_bucket.existing.id
  block_public_acls       = false
  block_public_policy     = false
  ignore_public_acls      = false
  restrict_public_buckets = false
}

resource "aws_s3_bucket_versioning" "existing" {
  bucket = data.aws_s3_bucket.existing.id
  versioning_configuration {
    status = "Suspended"
  }
}

data "aws_s3_bucket" "shared" {
  bucket = "acme-shared"
}

# Only the account-level block: the bucket's own may be declared where the bucket is.
resource "aws_s3_account_public_access_block" "account" {
  block_public_acls = true
}

resource "aws_s3_bucket_policy" "shared" {
  bucket = data.aws_s3_bucket.shared.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = "s3:GetObject"
      Resource  = "${data.aws_s3_bucket.shared.arn}/*"
      Condition = { ArnLike = { "aws:PrincipalArn" = "arn:aws:iam::*" } }
    }]
  })
}

resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
  acl    = "website"
}

resource "aws_s3_bucket_public_access_block" "frames" {
  bucket                  = aws_s3_bucket.frames.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "frames" {
  bucket = aws_s3_bucket.frames.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES-256"
    }
  }
}

resource "aws_s3_bucket_versioning" "frames" {
  bucket = aws_s3_bucket.frames.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "google_storage_bucket" "media" {
  name                        = "acme-media"
  location                    = "EU"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning = {
    enabled = true
  }
}
