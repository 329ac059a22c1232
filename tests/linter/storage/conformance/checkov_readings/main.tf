# The four places where veil's strict readings and Checkov's differ, written from the providers'
# documentation. The default pack follows Checkov; ../strict_readings judges this code strictly.

variable "algorithm" {
  type = string # no default: the code does not determine it
}

# No encryption configuration: S3 applies SSE-S3 to every new object (since January 2023).
resource "aws_s3_bucket" "plain" {
  bucket = "acme-plain"
}

# aws:kms without a key id: the AWS-managed aws/s3 key (provider v4+ split resource).
resource "aws_s3_bucket" "kms_alone" {
  bucket = "acme-kms-alone"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "kms_alone" {
  bucket = aws_s3_bucket.kms_alone.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

# The same in the provider v3 inline form, with a lifecycle rule that only moves objects.
resource "aws_s3_bucket" "legacy" {
  bucket = "acme-legacy"
  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm = "aws:kms"
      }
    }
  }
  lifecycle_rule {
    enabled = true
    transition {
      days          = 30
      storage_class = "GLACIER"
    }
  }
}

# An algorithm the code leaves to a variable without default.
resource "aws_s3_bucket" "chosen" {
  bucket = "acme-chosen"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "chosen" {
  bucket = aws_s3_bucket.chosen.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = var.algorithm
    }
  }
}

# A customer-managed key named, and a lifecycle configuration whose only rule is disabled.
resource "aws_s3_bucket" "keyed" {
  bucket = "acme-keyed"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "keyed" {
  bucket = aws_s3_bucket.keyed.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = "arn:aws:kms:eu-west-1:111122223333:key/abcd"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "keyed" {
  bucket = aws_s3_bucket.keyed.id
  rule {
    id     = "expire"
    status = "Disabled"
    filter {}
    expiration {
      days = 30
    }
  }
}
