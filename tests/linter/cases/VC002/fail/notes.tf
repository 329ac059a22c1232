# veil:ignore VC203 reason=""
locals {
  x = 1
}
