# AWS provider v3: settings as blocks and attributes of aws_s3_bucket.
resource "aws_s3_bucket" "hardened" {
  bucket = "acme-hardened"
  acl    = "private"

  versioning {
    enabled = true
  }

  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm     = "aws:kms"
        kms_master_key_id = "arn:aws:kms:eu-west-1:111122223333:key/abcd"
      }
    }
  }

  logging {
    target_bucket = "acme-logs"
    target_prefix = "hardened/"
  }

  lifecycle_rule {
    id      = "expire"
    enabled = true
    expiration {
      days = 30
    }
  }
}

resource "aws_s3_bucket_public_access_block" "hardened" {
  bucket                  = aws_s3_bucket.hardened.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket" "open" {
  bucket = "acme-open"
  acl    = "public-read-write"

  versioning {
    enabled = false
  }

  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm = "AES256"
      }
    }
  }
}
