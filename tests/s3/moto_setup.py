"""Prepares moto's server for the SigV4 tests, as moto's documentation shows
for its IAM checks: an IAM user allowed every S3 action, an access key for
it, and a bucket. These are the four actions moto serves before it starts
checking signatures (`INITIAL_NO_AUTH_ACTION_COUNT=4`).

Usage: python moto_setup.py URL BUCKET   (prints {"key_id", "secret"} as JSON)
"""
import json
import sys

import boto3

url, bucket = sys.argv[1], sys.argv[2]
anyone = {"endpoint_url": url, "region_name": "us-east-1",
          "aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
iam = boto3.client("iam", **anyone)
iam.create_user(UserName="sigconform")
iam.put_user_policy(
    UserName="sigconform",
    PolicyName="s3",
    PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }),
)
key = iam.create_access_key(UserName="sigconform")["AccessKey"]
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                  aws_access_key_id=key["AccessKeyId"],
                  aws_secret_access_key=key["SecretAccessKey"])
s3.create_bucket(Bucket=bucket)
print(json.dumps({"key_id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}))
