resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_lifecycle_configuration" "frames" {
  bucket = aws_s3_bucket.frames.id
  rule {
    id     = "raw"
    status = "Enabled"
    filter {
      and {
        prefix = "raw/"
        tags = {
          stage = "ingest"
        }
      }
    }
    expiration {
      days = 7
    }
  }
  rule {
    id     = "everything"
    status = "Enabled"
    filter {}
    expiration {
      days = 365
    }
  }
}
