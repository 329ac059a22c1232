resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}
