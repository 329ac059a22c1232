resource "aws_s3_bucket" "thumbs" {
  bucket = "acme-thumbs"
}
