module "private" {
  source = "../../modules/bucket"
  name   = "acme-private"
}

module "unused" {
  source = "../../modules/bucket"
  count  = 0
  name   = "acme-media"
  acl    = "public-read"
}
