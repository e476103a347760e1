resource "aws_vpc" "shop" {
  cidr_block           = var.vpc_cidr
  enable_dns_hostnames = true

  tags = {
    Name = "shop-${var.environment}"
  }
}

resource "aws_subnet" "private_a" {
  vpc_id            = aws_vpc.shop.id
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, 1)
  availability_zone = "eu-west-1a"
}

resource "aws_subnet" "private_b" {
  vpc_id            = aws_vpc.shop.id
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, 2)
  availability_zone = "eu-west-1b"
}

resource "aws_security_group" "bastion" {
  name        = "bastion"
  description = "SSH bastion for on-call engineers"
  vpc_id      = aws_vpc.shop.id

  # planted: P41
  ingress {
    description = "SSH from anywhere"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "All outbound"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "orders_db" {
  name        = "orders-db"
  description = "PostgreSQL for the orders API"
  vpc_id      = aws_vpc.shop.id

  ingress {
    description = "PostgreSQL from inside the VPC"
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }
}
