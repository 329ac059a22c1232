variable "versioning_status" {
  type = string
}

variable "acl" {
  type    = string
  default = "private"
}

resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_versioning" "frames" {
  bucket = aws_s3_bucket.frames.id
  versioning_configuration {
    status = var.versioning_status
  }
}

resource "aws_s3_bucket_acl" "frames" {
  bucket = aws_s3_bucket.frames.id
  acl    = var.acl
}
