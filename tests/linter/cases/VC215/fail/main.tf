resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_ownership_controls" "frames" {
  bucket = aws_s3_bucket.frames.id
  rule {
    object_ownership = "ObjectWriter"
  }
}

resource "aws_s3_bucket_ownership_controls" "shared" {
  bucket = "acme-shared"
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}
