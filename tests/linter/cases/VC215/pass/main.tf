resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_ownership_controls" "frames" {
  bucket = aws_s3_bucket.frames.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# No ownership controls: AWS disables ACLs on new buckets by default.
resource "aws_s3_bucket" "thumbs" {
  bucket = "acme-thumbs"
}
