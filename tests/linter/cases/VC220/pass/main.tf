resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

# Every flag of an access point's public access block defaults to true.
resource "aws_s3_access_point" "partners" {
  bucket = aws_s3_bucket.frames.id
  name   = "partners"
}

resource "aws_s3_access_point" "internal" {
  bucket = aws_s3_bucket.frames.id
  name   = "internal"
  public_access_block_configuration {
    block_public_acls       = true
    block_public_policy     = true
    ignore_public_acls      = true
    restrict_public_buckets = true
  }
}
