resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_logging" "frames" {
  bucket        = aws_s3_bucket.frames.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "frames/"
}

# Object lock is enabled but no default retention locks new log objects.
resource "aws_s3_bucket" "logs" {
  bucket              = "acme-logs"
  object_lock_enabled = true
}
