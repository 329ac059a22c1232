resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_replication_configuration" "frames" {
  bucket = aws_s3_bucket.frames.id
  role   = aws_iam_role.replication.arn
  rule {
    id     = "all"
    status = "Enabled"
    destination {
      bucket = aws_s3_bucket.replica.arn
    }
  }
}

resource "aws_s3_bucket" "replica" {
  bucket = "acme-frames-replica"
}
