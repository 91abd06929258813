// ARNs of the local AWS IoT stack. The local stack has one fixed account; ARNs use AWS's exact form so
// code that builds or parses them (e.g. the enroll command's target ARN) sees what it would in AWS.

/** The fixed account id of the local stack (12 digits, as in AWS's documentation examples). */
export const LOCAL_ACCOUNT_ID = '123456789012';

export type IotResourceType = 'thing' | 'thinggroup' | 'job';

export function iotArn(region: string, accountId: string, type: IotResourceType, name: string): string {
  return `arn:aws:iot:${region}:${accountId}:${type}/${name}`;
}

export const thingArn = (region: string, accountId: string, thingName: string): string =>
  iotArn(region, accountId, 'thing', thingName);
export const thingGroupArn = (region: string, accountId: string, groupName: string): string =>
  iotArn(region, accountId, 'thinggroup', groupName);
export const jobArn = (region: string, accountId: string, jobId: string): string =>
  iotArn(region, accountId, 'job', jobId);

export interface ParsedIotArn {
  partition: string;
  region: string;
  accountId: string;
  type: string;
  name: string;
}

const ARN_PATTERN = /^arn:(aws[a-z-]*):iot:([a-z0-9-]+):(\d{12}):([a-z]+)\/(.+)$/;

/** Parses `arn:PARTITION:iot:REGION:ACCOUNT:TYPE/NAME`; undefined when the text is not such an ARN. */
export function parseIotArn(text: string): ParsedIotArn | undefined {
  const match = ARN_PATTERN.exec(text);
  if (!match) return undefined;
  const [, partition, region, accountId, type, name] = match;
  return { partition: partition!, region: region!, accountId: accountId!, type: type!, name: name! };
}
