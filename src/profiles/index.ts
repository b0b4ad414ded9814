export {
  awsCliFiles,
  DEFAULT_PROFILE,
  profileExports,
  profileName,
  readProfile,
  updateEndpoint,
  writeProfile,
  type Profile,
} from './aws-cli-files.js';
