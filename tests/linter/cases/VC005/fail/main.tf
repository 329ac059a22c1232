# A bucket that is not public: the suppression hides nothing.
# veil:ignore VC201 reason="public website"
resource "aws_s3_bucket" "site" {
  bucket = "acme-site"
}

# veil:ignore VC201 reason="published samples"

resource "aws_s3_bucket_acl" "site" {
  bucket = aws_s3_bucket.site.id
  acl    = "private"
}
