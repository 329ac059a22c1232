resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket" "thumbs" {
  bucket = "acme-thumbs"
}

resource "aws_s3_bucket_lifecycle_configuration" "thumbs" {
  bucket = aws_s3_bucket.thumbs.id
  rule {
    id     = "expire"
    status = "Disabled"
    expiration {
      days = 30
    }
  }
}
