variable "bucket" {}

variable "acl" {
  default = null
}

resource "aws_s3_bucket" "this" {
  count  = 1
  bucket = var.bucket
}

resource "aws_s3_bucket_acl" "this" {
  bucket = aws_s3_bucket.this[0].id
  acl    = var.acl
}

module "inner" {
  source = "./modules/inner"
  name   = "${var.bucket}-inner"
}
