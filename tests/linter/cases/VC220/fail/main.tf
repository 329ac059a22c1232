resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_access_point" "partners" {
  bucket = aws_s3_bucket.frames.id
  name   = "partners"
  public_access_block_configuration {
    block_public_acls       = true
    block_public_policy     = false
    ignore_public_acls      = true
    restrict_public_buckets = false
  }
}
