variable "name" {
  type = string
}

variable "public" {
  type    = bool
  default = false
}

variable "create" {
  default = true
}

resource "aws_s3_bucket" "this" {
  count  = var.create ? 1 : 0
  bucket = var.name
}

resource "aws_s3_bucket_acl" "this" {
  count  = var.create ? 1 : 0
  bucket = aws_s3_bucket.this[0].id
  acl    = var.public ? "public-read" : "private"
}
