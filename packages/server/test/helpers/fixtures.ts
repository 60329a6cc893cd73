// The test backend's world lives in @herald/testkit, shared with the client's tests.
export { fixtureSites, SITE1, SITE2 } from '@herald/testkit';
