"""A stand-in for the pulumi-aws provider plugin on machines that can't download it.

The engine attaches to it through ``PULUMI_DEBUG_PROVIDERS=aws:<port>``. It
serves the two resource types the product uses, ACM certificates
(certificate.py) and CloudFront distributions (distribution.py), with boto3
(against moto in the sandbox), and decides replace versus update, fills
defaults, keeps secrets and reads resources back on refresh the way pulumi-aws
(the bridged Terraform AWS provider) does, so a program that behaves here
behaves the same with the real plugin against AWS.

server.py is the gRPC service: it turns the engine's requests into plain
properties (properties.py), hands them to the handler of the resource's type
and seals the answer; diffing.py holds Terraform's rules for what counts as a
change, aws.py the provider configuration and AWS clients.
"""
