// The identifier patterns of the configuration, without zod: modules that only need to check a name
// (the local stack's topic parser, `ggjobs local`'s option parsers) import these and stay light.
export const JOB_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
export const NAMESPACE_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
export const THING_NAME_PATTERN = /^[a-zA-Z0-9:_-]{1,128}$/;
export const THING_GROUP_NAME_PATTERN = /^[a-zA-Z0-9:_-]{1,128}$/;
export const THING_GROUP_ARN_PATTERN =
  /^arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}:thinggroup\/[a-zA-Z0-9:_-]{1,128}$/;
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;
