/** The repository file Matinee reads, at the pull request's head commit. */
export const CONFIG_FILE = '.matinee.yml';
