module "frames" {
  source        = "../modules/bucket"
  name          = "acme-frames"
  sse_algorithm = "aws:kms"
}

module "scratch" {
  source        = "../modules/bucket"
  name          = "acme-scratch"
  sse_algorithm = var.scratch_sse
}

module "retired" {
  source        = "../modules/bucket"
  count         = 0
  name          = "acme-retired"
  sse_algorithm = "none"
}

variable "scratch_sse" {
  type = string
}
