/* global console */
// Prints the caller's ARN using the SDK's default credential chain (run as a "pod").
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

const id = await new STSClient({}).send(new GetCallerIdentityCommand({}));
console.log(id.Arn);
