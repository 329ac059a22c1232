# A private ACL behind a full public access block; a guarded public grant is in fail/guarded.tf.
resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_acl" "frames" {
  bucket = aws_s3_bucket.frames.id
  acl    = "private"
}

resource "aws_s3_bucket_public_access_block" "frames" {
  bucket                  = aws_s3_bucket.frames.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

resource "google_storage_bucket" "clips" {
  name                        = "acme-clips"
  location                    = "EU"
  public_access_prevention    = "enforced"
  uniform_bucket_level_access = true
}
