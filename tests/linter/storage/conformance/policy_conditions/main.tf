resource "aws_s3_bucket" "vpc_only" {
  bucket = "acme-vpc-only"
}

resource "aws_s3_bucket_policy" "vpc_only" {
  bucket = aws_s3_bucket.vpc_only.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.vpc_only.arn}/*"
      Condition = { StringEquals = { "aws:SourceVpce" = "vpce-0abc" } }
    }]
  })
}

resource "aws_s3_bucket" "tls_condition" {
  bucket = "acme-tls-condition"
}

resource "aws_s3_bucket_policy" "tls_condition" {
  bucket = aws_s3_bucket.tls_condition.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = ["s3:GetObject"]
      Resource  = "${aws_s3_bucket.tls_condition.arn}/*"
      Condition = { Bool = { "aws:SecureTransport" = "true" } }
    }]
  })
}

resource "aws_s3_bucket" "if_exists" {
  bucket = "acme-if-exists"
}

resource "aws_s3_bucket_policy" "if_exists" {
  bucket = aws_s3_bucket.if_exists.id
  policy = <<POLICY
{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::acme-if-exists/*",
    "Condition": {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
  }]
}
POLICY
}
